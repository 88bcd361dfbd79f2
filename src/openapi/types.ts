/**
 * The shapes of the OpenAPI 3.1 document (the subset of OpenAPI 3.1 the builders use), and the options
 * `buildOpenApiSpec` takes. Types only, plus `HTTP_METHODS`; `./spec.ts` re-exports all of it.
 */
export type JsonSchema = { [keyword: string]: unknown };
export type RefObject = { $ref: string };
export interface ExampleObject {
  summary?: string;
  value: unknown;
}
export interface MediaTypeObject {
  schema: JsonSchema;
  example?: unknown;
  examples?: Record<string, ExampleObject>;
}
export interface HeaderObject {
  description?: string;
  required?: boolean;
  schema: JsonSchema;
}
export interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject | RefObject>;
  content?: Record<string, MediaTypeObject>;
}
export interface ParameterObject {
  name: string;
  in: 'query' | 'header' | 'path' | 'cookie';
  description?: string;
  required?: boolean;
  schema: JsonSchema;
  style?: string;
  explode?: boolean;
  example?: unknown;
}
export interface RequestBodyObject {
  description?: string;
  required?: boolean;
  content: Record<string, MediaTypeObject>;
}
export interface OperationObject {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters: (ParameterObject | RefObject)[];
  requestBody?: RequestBodyObject;
  responses: Record<string, ResponseObject | RefObject>;
  /** State-changing operation: the playground warns before sending it to Production. */
  'x-mutating': boolean;
}
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
export type PathItemObject = Partial<Record<HttpMethod, OperationObject>>;

/** Responses the app gives to requests that match no documented operation (no OpenAPI field says this). */
export interface UnmatchedResponses {
  description: string;
  /** A path no route serves. */
  unknownRoute: Record<string, RefObject>;
  /** A documented path with a method it does not serve (the `Allow` header lists the ones it does). */
  wrongMethod: Record<string, RefObject>;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license?: { name: string; identifier: string } };
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, ResponseObject>;
    parameters: Record<string, ParameterObject>;
    headers: Record<string, HeaderObject>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; bearerFormat: string; description: string }>;
  };
  'x-unmatched-requests': UnmatchedResponses;
}

export interface OpenApiOptions {
  servers: { url: string; description: string }[];
  /** Digits of a code (`OTP_LENGTH`, default 4): the request pattern of `code`. */
  otpLength?: number;
}
