// What the UI offers for a failure. The backend's message names the problem; `kind` and `remedy`
// decide which actions to offer and how to word the way out. Pure, so the branching is tested
// without rendering.
import type { ApiError } from "../api";

/** An action an error can offer; each is a button where the place showing the error can do it. */
export type Offer =
  | "login" // open the remote's login form
  | "retry" // run the failed action again
  | "offline" // switch to offline mode
  | "force" // delete anyway
  | "overwrite" // replace the target folder's content
  | "push" // upload & finalize what is waiting
  | "go_online"; // leave offline mode

/** Actions a place can take for its own failures (the app-wide ones come from the error context). */
export interface LocalRemedies {
  retry?: () => void;
  force?: () => void;
  overwrite?: () => void;
}

/** How pages report a failure: the error as caught, and what the place could do about it. */
export type ReportError = (e: unknown, remedies?: LocalRemedies) => void;

export function offers(e: ApiError): Offer[] {
  const out: Offer[] = [];
  if (e.kind === "unauthorized" || e.remedy === "login") out.push("login");
  if (e.kind === "unavailable") out.push("retry", "offline");
  if (e.kind === "conflict" && e.remedy === "force") out.push("force");
  if (e.remedy === "overwrite") out.push("overwrite");
  if (e.remedy === "push") out.push("push");
  if (e.remedy === "go_online") out.push("go_online");
  return out;
}

/** One sentence on how to act (the backend's message names only the problem). */
export function advice(e: ApiError): string | null {
  if (e.kind === "corrupt" || e.remedy === "verify")
    return "Verify the version (strata verify REF) to find the missing or damaged files, then get them again from a remote or the original folder.";
  const remote = e.remote ? `'${e.remote}'` : "the remote";
  switch (e.remedy) {
    case "force":
      return "Delete anyway: its children keep all their files but lose this link in their lineage.";
    case "overwrite":
      return "Replace the folder's content, or choose an empty folder.";
    case "push":
      return "It waits in the queue; “Upload & finalize waiting” sends it once the remote is reachable.";
    case "login":
      return `Log in to ${remote}; credentials are kept in the OS keychain.`;
    case "pull":
      return "Pull the team's catalog (Remotes & sharing → Pull), then try again.";
    case "finalize":
      return "Finalize the draft first.";
    case "unlock":
      return "Wait until the other task or workstation writing this draft has finished, then try again.";
    case "allow_http":
      return `Use an https address, or allow plain HTTP for ${remote} (strata remote add --allow-http).`;
    case "allow_private_links":
      return `Allow private links for ${remote} (strata remote set NAME --allow-private-links true) if you trust it.`;
    case "add_remote":
      return "Add a remote first (Remotes & sharing → Add remote).";
    case "give_version":
      return "Give a version number.";
    case "go_online":
      return "Go online to do this.";
    case "choose_folder":
      return "Choose a target folder for the writable copy.";
    case "include_drafts":
      return "Open the draft by its number (project/name@X.Y.Z): a dataset's name stands for its newest final version.";
  }
  if (e.kind === "unavailable") return "Check the connection and retry, or work offline: changes wait and are sent later.";
  if (e.kind === "unauthorized") return `Log in to ${remote} again.`;
  return null;
}

export function isCancelled(e: ApiError): boolean {
  return e.kind === "cancelled";
}
