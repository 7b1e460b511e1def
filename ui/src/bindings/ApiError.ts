// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { ErrorKind } from "./ErrorKind";

/**
 * Every failure the UI sees: `kind` to decide what to offer, `code` for detail, `message` to show,
 * `remote` when a remote failed, `remedy` when one action would resolve it.
 */
export type ApiError = { code: string, kind: ErrorKind, message: string, remote: string | null, remedy: string | null, };
