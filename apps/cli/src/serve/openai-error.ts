/**
 * Errors as OpenAI's API sends them — status plus {error: {message, type, param, code}} — so OpenAI clients
 * raise their usual exception classes (BadRequestError, AuthenticationError, RateLimitError, …).
 */
export type OpenAiErrorType = "invalid_request_error" | "authentication_error" | "rate_limit_error" | "not_found_error" | "server_error";

export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type: OpenAiErrorType = status === 401 ? "authentication_error" : status === 429 ? "rate_limit_error" : status === 404 ? "not_found_error" : status >= 500 ? "server_error" : "invalid_request_error",
  ) {
    super(message);
    this.name = "OpenAiError";
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A field's value for an error message: JSON, shortened so a huge body does not come back in the error. */
export function shown(value: unknown): string {
  const s = value === undefined ? "undefined" : JSON.stringify(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
