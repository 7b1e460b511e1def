// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { TotalsDto } from "./TotalsDto";
import type { VersionDto } from "./VersionDto";

export type VersionDetailDto = { version: VersionDto, 
/**
 * Parents as versions (deleted ones are left out).
 */
parents: Array<VersionDto>, 
/**
 * Against the first parent, when there is one.
 */
againstParent: TotalsDto | null, children: Array<VersionDto>, };
