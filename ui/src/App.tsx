import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { listen } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { api, asApiError, type CatalogDto, type ProgressDto, type Task } from "./api";
import { bytes, changeSummary } from "./lib/format";
import { transfers } from "./lib/transfers";
import { RemotesPage } from "./components/RemotesPage";
import { TransfersPanel } from "./components/TransfersPanel";
import { DatasetPage } from "./components/DatasetPage";
import { DiffView } from "./components/DiffView";
import { NewDataset } from "./components/NewDataset";
import { Sidebar } from "./components/Sidebar";
import { TaskPanel, type RunningTask } from "./components/TaskPanel";
import { VersionPage } from "./components/VersionPage";
import { Welcome } from "./components/Welcome";

type Route =
  | { page: "home" }
  | { page: "dataset"; dataset: string }
  | { page: "version"; id: string }
  | { page: "diff"; from: string; to: string }
  | { page: "remotes" };

/** Starts a transfer: `start` runs it (again, on resume); `describe` words its result. */
export type StartTransfer = <T>(title: string, start: (onProgress: (p: ProgressDto) => void) => Task<T>, describe: (r: T) => string) => void;

interface Handle {
  start: (onProgress: (p: ProgressDto) => void) => Task<unknown>;
  describe: (r: unknown) => string;
  task: Task<unknown> | null;
  paused: boolean;
}

export function App() {
  const [route, setRoute] = useState<Route>({ page: "home" });
  const [catalog, setCatalog] = useState<CatalogDto | null>(null);
  const [refresh, setRefresh] = useState(0);
  const [task, setTask] = useState<RunningTask | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [newFor, setNewFor] = useState<null | { dataset?: string; folder?: string }>(null);
  const busy = useRef(false);
  const [xfers, dispatch] = useReducer(transfers, []);
  const handles = useRef(new Map<number, Handle>());
  const nextKey = useRef(1);

  const reload = useCallback(() => {
    api.catalog().then(setCatalog, (e) => setError(asApiError(e).message));
    setRefresh((r) => r + 1);
  }, []);

  useEffect(() => {
    reload();
    const un = listen("catalog://changed", () => reload());
    // A folder dropped on the window starts "new dataset from folder" with it.
    const drop = getCurrentWebview().onDragDropEvent((e) => {
      if (e.payload.type === "drop" && e.payload.paths.length > 0) setNewFor({ folder: e.payload.paths[0] });
    });
    return () => {
      un.then((f) => f());
      drop.then((f) => f());
    };
  }, [reload]);

  const launch = useCallback(
    (key: number) => {
      const h = handles.current.get(key);
      if (!h) return;
      h.paused = false;
      const t = h.start((p) => dispatch({ type: "progress", key, progress: p }));
      h.task = t;
      t.done.then(
        (r) => {
          dispatch({ type: "done", key, message: h.describe(r) });
          reload();
        },
        (e) => {
          const err = asApiError(e);
          if (h.paused) return;
          if (err.code === "cancelled") dispatch({ type: "dismiss", key });
          else dispatch({ type: "failed", key, message: err.message });
          reload();
        },
      );
    },
    [reload],
  );

  const transfer: StartTransfer = useCallback(
    (title, start, describe) => {
      const key = nextKey.current++;
      handles.current.set(key, {
        start: start as Handle["start"],
        describe: describe as Handle["describe"],
        task: null,
        paused: false,
      });
      dispatch({ type: "start", key, title });
      launch(key);
    },
    [launch],
  );

  const pull = useCallback(
    () =>
      transfer(
        "Pull the team's catalog",
        (p) => api.pull(null, p),
        (r) =>
          `${r.remote}: ${r.newVersions.length} new version${r.newVersions.length === 1 ? "" : "s"}` +
          (r.renumbered.length ? `; renumbered yours: ${r.renumbered.join(", ")}` : "") +
          (r.keptLocal.length
            ? `; kept yours, not shared there: ${r.keptLocal.join(", ")}`
            : "") +
          (r.refused.length
            ? `; skipped ${r.refused.length} bad log entr${r.refused.length === 1 ? "y" : "ies"}: ${r.refused.join("; ")}`
            : ""),
      ),
    [transfer],
  );

  // Pull once at start when a remote is set up: the team's new versions show up on their own.
  useEffect(() => {
    api.remotes().then(
      (r) => {
        if (r.remotes.length > 0 && !r.offline) pull();
      },
      () => {},
    );
  }, [pull]);

  /** Runs one long task at a time with the progress panel; returns null when cancelled or failed. */
  const run = useCallback(async <T,>(title: string, start: (onProgress: (p: ProgressDto) => void) => Task<T>): Promise<T | null> => {
    if (busy.current) {
      setError("Another task is running; wait for it or cancel it first.");
      return null;
    }
    busy.current = true;
    setError(null);
    const t = start((p) => setTask((cur) => (cur ? { ...cur, progress: p } : cur)));
    setTask({
      title,
      progress: null,
      cancelling: false,
      cancel: () => {
        setTask((cur) => (cur ? { ...cur, cancelling: true } : cur));
        t.cancel();
      },
    });
    try {
      return await t.done;
    } catch (e) {
      const err = asApiError(e);
      if (err.code === "cancelled") setNotice("Cancelled; nothing was changed.");
      else setError(err.message);
      return null;
    } finally {
      busy.current = false;
      setTask(null);
    }
  }, []);

  const snapshot = async (dataset: string, folder: string) => {
    setNewFor(null);
    const c = await run(`Snapshot of ${folder}`, (p) => api.snapshot(dataset, folder, p));
    if (!c) return;
    setNotice(c.created ? `${dataset} ${c.version.semver}: ${changeSummary(c.changes)}` : `No changes since ${c.version.semver}; no new version.`);
    reload();
    setRoute({ page: "version", id: c.version.id });
  };

  const current = route.page === "dataset" ? route.dataset : undefined;
  return (
    <div className="app">
      <Sidebar
        catalog={catalog}
        current={current}
        onOpen={(d) => setRoute({ page: "dataset", dataset: d })}
        onNew={() => setNewFor({})}
        onHome={() => setRoute({ page: "home" })}
        onRemotes={() => setRoute({ page: "remotes" })}
      />
      <main>
        {error && (
          <div className="error" role="alert" data-test="error">
            {error}
            <button className="ghost small" onClick={() => setError(null)} aria-label="Dismiss">×</button>
          </div>
        )}
        {notice && !error && (
          <div className="notice" data-test="notice">
            {notice}
            <button className="ghost small" onClick={() => setNotice(null)} aria-label="Dismiss">×</button>
          </div>
        )}
        {route.page === "home" && <Welcome catalog={catalog} onNew={() => setNewFor({})} onOpen={(d) => setRoute({ page: "dataset", dataset: d })} />}
        {route.page === "dataset" && (
          <DatasetPage
            dataset={route.dataset}
            refresh={refresh}
            onOpenVersion={(id) => setRoute({ page: "version", id })}
            onNewVersion={() => setNewFor({ dataset: route.dataset })}
            onDiff={(from, to) => setRoute({ page: "diff", from, to })}
            onError={setError}
            onRenamed={(d) => {
              reload();
              setRoute(d ? { page: "dataset", dataset: d } : { page: "home" });
            }}
          />
        )}
        {route.page === "version" && (
          <VersionPage
            reference={route.id}
            refresh={refresh}
            run={run}
            onOpenVersion={(id) => setRoute({ page: "version", id })}
            onOpenDataset={(d) => setRoute({ page: "dataset", dataset: d })}
            onDiff={(from, to) => setRoute({ page: "diff", from, to })}
            onError={setError}
            onNotice={setNotice}
            transfer={transfer}
          />
        )}
        {route.page === "remotes" && (
          <RemotesPage
            refresh={refresh}
            onPull={pull}
            onPush={() =>
              transfer(
                "Upload & finalize everything waiting",
                (p) => api.push(p),
                (r) => `${r.uploaded.length} versions (${bytes(r.sentBytes)}) and ${r.events} catalog changes sent`,
              )
            }
            onError={setError}
            onNotice={setNotice}
          />
        )}
        {route.page === "diff" && (
          <DiffView from={route.from} to={route.to} onOpenVersion={(id) => setRoute({ page: "version", id })} onError={setError} />
        )}
      </main>
      {task && <TaskPanel task={task} />}
      <TransfersPanel
        list={xfers}
        onPause={(key) => {
          const h = handles.current.get(key);
          if (!h?.task) return;
          h.paused = true;
          h.task.cancel();
          dispatch({ type: "paused", key });
        }}
        onResume={(key) => {
          dispatch({ type: "resumed", key });
          launch(key);
        }}
        onCancel={(key) => handles.current.get(key)?.task?.cancel()}
        onDismiss={(key) => {
          handles.current.delete(key);
          dispatch({ type: "dismiss", key });
        }}
      />
      {newFor && <NewDataset dataset={newFor.dataset} initialFolder={newFor.folder} onCancel={() => setNewFor(null)} onSubmit={snapshot} />}
    </div>
  );
}
