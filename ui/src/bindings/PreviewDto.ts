// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * A preview of one file: an image (PNG, base64), the first rows of a table, the head of a
 * text, or why there is none.
 */
export type PreviewDto = { "kind": "image", png: string, width: number, height: number, sourceWidth: number, sourceHeight: number, format: string, } | { "kind": "table", columns: Array<string>, rows: Array<Array<string>>, truncated: boolean, notes: Array<string>, } | { "kind": "text", text: string, truncated: boolean, notes: Array<string>, } | { "kind": "unavailable", why: string, };
