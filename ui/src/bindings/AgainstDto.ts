// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { DeltaDto } from "./DeltaDto";
import type { MoveDto } from "./MoveDto";
import type { RegionDto } from "./RegionDto";

/**
 * This version against another: the comparison chart and what changed.
 */
export type AgainstDto = { version: string, 
/**
 * "relabelling moved 212 images from cat to lynx; dog lost 9 % of its training examples".
 */
summary: string, gained: Array<string>, lost: Array<string>, 
/**
 * Classes whose counts changed: this version minus the other.
 */
delta: Array<DeltaDto>, 
/**
 * Files that changed class (at most a few hundred), and how many did in all.
 */
moved: Array<MoveDto>, movedCount: number, svg: string, regions: Array<RegionDto>, };
