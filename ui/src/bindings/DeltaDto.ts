// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type DeltaDto = { name: string, images: number, instances: number, };
