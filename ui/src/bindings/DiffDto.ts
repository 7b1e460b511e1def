// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { FileDto } from "./FileDto";
import type { ModifiedDto } from "./ModifiedDto";
import type { TotalsDto } from "./TotalsDto";
import type { VersionDto } from "./VersionDto";

export type DiffDto = { from: VersionDto, to: VersionDto, totals: TotalsDto, 
/**
 * At most `limit` of each; `totals` has the full counts.
 */
added: Array<FileDto>, removed: Array<FileDto>, modified: Array<ModifiedDto>, };
