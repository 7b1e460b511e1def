// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * A class's place on a chart, in fractions of the picture (0 to 1), and its counts in words.
 */
export type RegionDto = { x: number, y: number, w: number, h: number, tip: string, };
