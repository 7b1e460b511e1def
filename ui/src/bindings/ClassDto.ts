// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type ClassDto = { name: string, images: number, instances: number, 
/**
 * Instances per split, in `InsightDto::split_names` order.
 */
splits: number[], };
