// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { FileDto } from "./FileDto";

export type FilePageDto = { 
/**
 * Entries matching the filter.
 */
total: number, offset: number, files: Array<FileDto>, };
