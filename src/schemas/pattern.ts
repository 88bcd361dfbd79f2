/**
 * The rules of `src/schemas/` keep their patterns as strings, as JSON Schema reads them (no flags);
 * the validators compile them with `regex`.
 */
export const regex = (pattern: string): RegExp => new RegExp(pattern);
