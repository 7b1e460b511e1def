// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { TotalsDto } from "./TotalsDto";
import type { VersionDto } from "./VersionDto";

export type ChangeDto = { version: VersionDto, created: boolean, changes: TotalsDto, };
