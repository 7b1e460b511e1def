// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * One version of an imported session, as it is here now.
 */
export type ImportedDto = { id: string, dataset: string, semver: string, 
/**
 * Its number in the session, when this home or the team's bucket had used it.
 */
renumberedFrom: string | null, state: string, alreadyHere: boolean, uploaded: boolean, };
