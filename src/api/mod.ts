/**
 * AkiDB's HTTP layer: {@linkcode createApp} builds the Hono app over an
 * {@linkcode Engine}; validation, authentication and the one error→HTTP map
 * live beside it.
 *
 * @module
 */

export { type AppServices, createApp } from "./create_app.ts";
export { ApiError } from "./api_error.ts";
export { createDeferredEngine, type DeferredEngine } from "./deferred_engine.ts";
export { type ErrorBody, mapError } from "./error_map.ts";
