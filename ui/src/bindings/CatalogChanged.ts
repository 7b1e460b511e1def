// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * Dispatched to the window when the catalog changed (`catalog://changed`).
 */
export type CatalogChanged = { dataset: string | null, version: string | null, };
