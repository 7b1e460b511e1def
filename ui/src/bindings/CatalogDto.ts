// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { DatasetDto } from "./DatasetDto";

export type CatalogDto = { home: string, datasets: Array<DatasetDto>, };
