/** Types of scripts/net.mjs, for the TypeScript tests. */
export function freePort(): Promise<number>;
export function redisPing(port: number): Promise<boolean>;
