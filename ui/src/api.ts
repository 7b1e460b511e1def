// Typed calls into the app backend. Types come from ui/src/bindings (generated from Rust).
import { Channel, invoke } from "@tauri-apps/api/core";
import type { ApiError } from "./bindings/ApiError";
import type { ErrorKind } from "./bindings/ErrorKind";
import type { NoticeDto } from "./bindings/NoticeDto";
import type { CatalogDto } from "./bindings/CatalogDto";
import type { ChangeDto } from "./bindings/ChangeDto";
import type { CopyDto } from "./bindings/CopyDto";
import type { CopyRequest } from "./bindings/CopyRequest";
import type { DiffDto } from "./bindings/DiffDto";
import type { FilePageDto } from "./bindings/FilePageDto";
import type { ProgressDto } from "./bindings/ProgressDto";
import type { VersionDetailDto } from "./bindings/VersionDetailDto";
import type { VersionDto } from "./bindings/VersionDto";
import type { RemotesDto } from "./bindings/RemotesDto";
import type { RemoteDto } from "./bindings/RemoteDto";
import type { RemoteRequest } from "./bindings/RemoteRequest";
import type { ProbeDto } from "./bindings/ProbeDto";
import type { PullDto } from "./bindings/PullDto";
import type { UploadDto } from "./bindings/UploadDto";
import type { PushDto } from "./bindings/PushDto";
import type { NoticeTone } from "./bindings/NoticeTone";
import type { WatchDto } from "./bindings/WatchDto";
import type { WatchAddRequest } from "./bindings/WatchAddRequest";
import type { WatchPhase } from "./bindings/WatchPhase";
import type { WatchStateDto } from "./bindings/WatchStateDto";
import type { InsightDto } from "./bindings/InsightDto";
import type { PreviewDto } from "./bindings/PreviewDto";
import type { ThumbDto } from "./bindings/ThumbDto";
import type { ExportDto } from "./bindings/ExportDto";
import type { RegionDto } from "./bindings/RegionDto";
import type { ImportDto } from "./bindings/ImportDto";
import type { ImportedDto } from "./bindings/ImportedDto";
import type { WaitingDto } from "./bindings/WaitingDto";
import type { FreeDto } from "./bindings/FreeDto";
import type { LocalContentDto } from "./bindings/LocalContentDto";
import type { ReachDto } from "./bindings/ReachDto";

export type { ApiError, ErrorKind, NoticeDto, CatalogDto, ChangeDto, CopyDto, CopyRequest, DiffDto, FilePageDto, ProgressDto, VersionDetailDto, VersionDto };
export type { RemotesDto, RemoteDto, RemoteRequest, ProbeDto, PullDto, UploadDto, PushDto };
export type { NoticeTone, WatchDto, WatchAddRequest, WatchPhase, WatchStateDto };
export type { InsightDto, PreviewDto, RegionDto, ThumbDto };
export type { ExportDto, ImportDto, ImportedDto };
export type { WaitingDto, FreeDto, LocalContentDto, ReachDto };

const KINDS: readonly ErrorKind[] = ["not_found", "invalid", "conflict", "unauthorized", "unavailable", "corrupt", "cancelled", "internal"];

/** Errors from the backend are `{ code, kind, message, remote, remedy }`; anything else (a thrown
 *  `Error`, a string, an older shape) becomes an internal error that keeps its message. */
export function asApiError(e: unknown): ApiError {
  if (e && typeof e === "object") {
    const o = e as Record<string, unknown>;
    if (typeof o.code === "string" && typeof o.message === "string" && KINDS.includes(o.kind as ErrorKind)) {
      return {
        code: o.code,
        kind: o.kind as ErrorKind,
        message: o.message,
        remote: typeof o.remote === "string" ? o.remote : null,
        remedy: typeof o.remedy === "string" ? o.remedy : null,
      };
    }
    if (typeof o.message === "string") return internal(o.message);
  }
  return internal(String(e));
}

function internal(message: string): ApiError {
  return { code: "internal", kind: "internal", message, remote: null, remedy: null };
}

let nextTask = 1;

/** A long operation: progress arrives on `onProgress`; `cancel()` stops it cleanly. */
export interface Task<T> {
  id: number;
  done: Promise<T>;
  cancel: () => Promise<boolean>;
}

function task<T>(command: string, args: Record<string, unknown>, onProgress: (p: ProgressDto) => void): Task<T> {
  const id = nextTask++;
  const channel = new Channel<ProgressDto>();
  channel.onmessage = onProgress;
  const done = invoke<T>(command, { ...args, task: id, onProgress: channel });
  return { id, done, cancel: () => invoke<boolean>("cancel_task", { task: id }) };
}

export const api = {
  catalog: () => invoke<CatalogDto>("catalog"),
  versions: (dataset: string) => invoke<VersionDto[]>("dataset_versions", { dataset }),
  detail: (reference: string) => invoke<VersionDetailDto>("version_detail", { reference }),
  files: (reference: string, glob: string, offset: number, limit: number) =>
    invoke<FilePageDto>("version_files", { reference, glob, offset, limit }),
  diff: (from: string, to: string, limit = 2000) => invoke<DiffDto>("diff_versions", { from, to, limit }),
  snapshot: (dataset: string, folder: string, onProgress: (p: ProgressDto) => void) =>
    task<ChangeDto>("snapshot_folder", { dataset, folder }, onProgress),
  create: (dataset: string, parents: string[], version?: string, description?: string) =>
    invoke<VersionDto>("create_version", { dataset, parents, version: version ?? null, description: description ?? null }),
  addPaths: (reference: string, paths: string[], to: string | null, onProgress: (p: ProgressDto) => void) =>
    task<ChangeDto>("add_paths", { reference, paths, to }, onProgress),
  remove: (reference: string, patterns: string[]) => invoke<ChangeDto>("remove_entries", { reference, patterns }),
  sync: (reference: string, folder: string, onProgress: (p: ProgressDto) => void) =>
    task<ChangeDto>("sync_folder", { reference, folder }, onProgress),
  finalize: (reference: string) => invoke<VersionDto>("finalize_version", { reference }),
  publish: (reference: string) => invoke<VersionDto>("publish_version", { reference }),
  getCopy: (reference: string, request: CopyRequest, onProgress: (p: ProgressDto) => void) =>
    task<CopyDto>("get_copy", { reference, request }, onProgress),
  squash: (dataset: string, references: string[]) => invoke<VersionDto>("squash_versions", { dataset, references }),
  deleteVersion: (reference: string, force: boolean) => invoke<VersionDto>("delete_version", { reference, force }),
  deleteDataset: (dataset: string) => invoke<number>("delete_dataset", { dataset }),
  rename: (dataset: string, newName: string) => invoke<string>("rename_dataset", { dataset, newName }),
  move: (dataset: string, project: string) => invoke<string>("move_dataset", { dataset, project }),
  setMetadata: (reference: string, key: string, value: string | null) =>
    invoke<VersionDto>("set_metadata", { reference, key, value }),
  setTags: (reference: string, changes: string[]) => invoke<VersionDto>("set_tags", { reference, changes }),
  setDescription: (reference: string, description: string) =>
    invoke<VersionDto>("set_description", { reference, description }),
  reveal: (path: string) => invoke<void>("reveal", { path }),
  remotes: () => invoke<RemotesDto>("remotes"),
  addRemote: (request: RemoteRequest) => invoke<void>("remote_add", { request }),
  removeRemote: (name: string) => invoke<void>("remote_remove", { name }),
  setDefaultRemote: (name: string) => invoke<void>("remote_set_default", { name }),
  testRemote: (name: string) => invoke<ProbeDto>("remote_test", { name }),
  /** Resolves to where the credentials are kept now, e.g. "Secret Service (kept across restarts ...)". */
  login: (name: string, values: string[]) => invoke<string>("remote_login", { name, values }),
  pull: (remote: string | null, onProgress: (p: ProgressDto) => void) => task<PullDto>("pull_remote", { remote }, onProgress),
  upload: (reference: string, remote: string | null, onProgress: (p: ProgressDto) => void) =>
    task<UploadDto>("upload_version", { reference, remote }, onProgress),
  push: (onProgress: (p: ProgressDto) => void) => task<PushDto>("push_all", {}, onProgress),
  datasetRemote: (dataset: string) => invoke<string | null>("dataset_remote", { dataset }),
  setDatasetRemote: (dataset: string, remote: string | null) => invoke<void>("set_dataset_remote", { dataset, remote }),
  finalizeUpload: (reference: string, onProgress: (p: ProgressDto) => void) =>
    task<VersionDto>("finalize_upload", { reference }, onProgress),
  watches: () => invoke<WatchDto[]>("watches"),
  addWatch: (request: WatchAddRequest) => invoke<WatchDto>("watch_add", { request }),
  pauseWatch: (id: number, paused: boolean) => invoke<WatchDto>("watch_pause", { id, paused }),
  removeWatch: (id: number) => invoke<void>("watch_remove", { id }),
  /** A version of the watched folder now, whatever its quiet window says. */
  versionNow: (id: number, onProgress: (p: ProgressDto) => void) => task<ChangeDto>("watch_version_now", { id }, onProgress),
  /** Label statistics of a version (label source detected when `labels` is null), and against
   *  another version when `against` is given. Long for a big label file: a task. */
  insight: (reference: string, labels: string | null, against: string | null, onProgress: (p: ProgressDto) => void) =>
    task<InsightDto>("version_insight", { reference, labels, against }, onProgress),
  preview: (reference: string, path: string) => invoke<PreviewDto>("file_preview", { reference, path }),
  thumbnails: (reference: string, paths: string[]) => invoke<ThumbDto[]>("file_thumbnails", { reference, paths }),
  /** Whether the app starts (in the tray) at login. */
  startAtLogin: () => invoke<boolean>("start_at_login"),
  setStartAtLogin: (on: boolean) => invoke<boolean>("set_start_at_login", { on }),
  /** A session file of `what` (datasets or versions), less `since` and its ancestors. */
  exportSession: (what: string[], since: string | null, path: string, onProgress: (p: ProgressDto) => void) =>
    task<ExportDto>("export_session", { what, since, path }, onProgress),
  importSession: (path: string, finalize: boolean, upload: boolean, onProgress: (p: ProgressDto) => void) =>
    task<ImportDto>("import_session", { path, finalize, upload }, onProgress),
  /** What "Upload & finalize waiting" lists: versions and changes waiting, and the drafts. */
  waiting: () => invoke<WaitingDto>("waiting"),
  /** Finalizes the drafts given, then uploads and sends everything waiting. */
  finalizeAndPush: (drafts: string[], onProgress: (p: ProgressDto) => void) =>
    task<PushDto>("finalize_and_push", { drafts }, onProgress),
  /** Drops the version's local content once its remote is checked to hold it. */
  free: (reference: string, onProgress: (p: ProgressDto) => void) => task<FreeDto>("free_version", { reference }, onProgress),
  localContent: (reference: string) => invoke<LocalContentDto>("local_content", { reference }),
  /** One cheap probe of the default remote. */
  remoteReachable: () => invoke<ReachDto>("remote_reachable"),
  offlineMode: () => invoke<boolean>("offline_mode"),
  setOfflineMode: (offline: boolean) => invoke<boolean>("set_offline_mode", { offline }),
};
