// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { ImportedDto } from "./ImportedDto";

export type ImportDto = { versions: Array<ImportedDto>, newObjects: number, newBytes: number, finalized: Array<string>, };
