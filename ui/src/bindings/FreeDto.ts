// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * What "Free local space" did.
 */
export type FreeDto = { 
/**
 * `project/name@semver` of each version freed.
 */
freed: Array<string>, 
/**
 * "version: reason" for each version kept.
 */
kept: Array<string>, freedBytes: number, 
/**
 * Bytes kept because a version that stays here holds them too.
 */
sharedKeptBytes: number, };
