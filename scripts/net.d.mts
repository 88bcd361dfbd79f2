/** Types of scripts/net.mjs, for the TypeScript tests. */
export function freePort(): Promise<number>;
export function redisCommand(port: number, args: (string | number)[], timeoutMs?: number): Promise<string>;
export function redisPing(port: number): Promise<boolean>;
