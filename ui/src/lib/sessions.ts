import type { ImportDto } from "../api";

/** A file name for a session of `datasets` made today: `vision-cats-2026-11-26.strata`. */
export function sessionFileName(datasets: string[], today: Date = new Date()): string {
  const day = today.toISOString().slice(0, 10);
  const what =
    datasets.length === 1
      ? datasets[0].replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "") || "session"
      : `${datasets.length}-datasets`;
  return `${what}-${day}.strata`;
}

/** What an import did, in one line: new versions, renumbered ones, finalized, uploaded. */
export function describeImport(r: ImportDto): string {
  const fresh = r.versions.filter((v) => !v.alreadyHere);
  if (fresh.length === 0 && r.finalized.length === 0 && !r.versions.some((v) => v.uploaded)) {
    return `Nothing new: its ${r.versions.length} version${r.versions.length === 1 ? " is" : "s are"} already here.`;
  }
  const parts = [`${fresh.length} new version${fresh.length === 1 ? "" : "s"}`];
  const renumbered = r.versions.filter((v) => v.renumberedFrom);
  if (renumbered.length) {
    parts.push(`renumbered ${renumbered.map((v) => `${v.dataset} ${v.renumberedFrom} → ${v.semver}`).join(", ")}`);
  }
  if (r.finalized.length) parts.push(`finalized ${r.finalized.join(", ")}`);
  const uploaded = r.versions.filter((v) => v.uploaded).length;
  if (uploaded) parts.push(`${uploaded} on the remote`);
  const drafts = r.versions.filter((v) => v.state === "draft").length;
  if (drafts) parts.push(`${drafts} draft${drafts === 1 ? "" : "s"} kept as draft${drafts === 1 ? "" : "s"}`);
  return parts.join("; ") + ".";
}
