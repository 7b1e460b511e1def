import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { listen } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { api, asApiError, type ApiError, type CatalogDto, type NoticeDto, type ReachDto, type WaitingDto } from "./api";
import { changeSummary } from "./lib/format";
import type { LocalRemedies, ReportError } from "./lib/errors";
import { addNotice, type Notice, type Tone } from "./lib/notices";
import { PROBE_EVERY_MS, unreachableBadge, waitingCount } from "./lib/offline";
import { RemotesPage } from "./components/RemotesPage";
import { ExportSession, ImportSession } from "./components/SessionDialog";
import { DatasetPage } from "./components/DatasetPage";
import { DiffView } from "./components/DiffView";
import { ErrorView, RemediesContext, type AppRemedies } from "./components/ErrorView";
import { NewDataset } from "./components/NewDataset";
import { Notices } from "./components/Notices";
import { Sidebar } from "./components/Sidebar";
import { TasksPanel, useTasks } from "./components/Tasks";
import { VersionPage } from "./components/VersionPage";
import { WaitingDialog } from "./components/WaitingDialog";
import { WatchesPage } from "./components/WatchesPage";
import { Welcome } from "./components/Welcome";

type Route =
  | { page: "home" }
  | { page: "dataset"; dataset: string }
  | { page: "version"; id: string }
  | { page: "diff"; from: string; to: string }
  /** `login`: open that remote's login form (`n` tells one request from the next). */
  | { page: "remotes"; login?: { remote: string | null; n: number } }
  | { page: "watches" };

export function App() {
  const [route, setRoute] = useState<Route>({ page: "home" });
  const [catalog, setCatalog] = useState<CatalogDto | null>(null);
  const [refresh, setRefresh] = useState(0);
  const [failure, setFailure] = useState<{ error: ApiError; remedies?: LocalRemedies } | null>(null);
  const [notices, setNotices] = useState<Notice[]>([]);
  const [offline, setOffline] = useState(false);
  const [reach, setReach] = useState<ReachDto | null>(null);
  const [waiting, setWaiting] = useState<WaitingDto | null>(null);
  const [waitingOpen, setWaitingOpen] = useState(false);
  const [newFor, setNewFor] = useState<null | { dataset?: string; folder?: string }>(null);
  const [session, setSession] = useState<null | "export" | "import">(null);
  const routeNow = useRef(route);
  routeNow.current = route;
  const nextNotice = useRef(1);
  const nextLogin = useRef(1);

  // Whether the default remote answers: at start, every minute, after going online and after an
  // `unavailable` error. Only a badge: the offline switch stays the user's.
  const probe = useCallback(() => {
    api.remoteReachable().then(setReach, () => {});
  }, []);
  useEffect(() => {
    probe();
    const t = setInterval(probe, PROBE_EVERY_MS);
    return () => clearInterval(t);
  }, [probe]);
  const report: ReportError = useCallback(
    (e, remedies) => {
      const error = asApiError(e);
      if (error.kind === "unavailable") probe();
      setFailure({ error, remedies });
    },
    [probe],
  );
  const notify = useCallback(
    (message: string, tone: Tone = "info") => setNotices((l) => addNotice(l, { key: nextNotice.current++, message, tone })),
    [],
  );

  const reload = useCallback(() => {
    api.catalog().then(setCatalog, (e) => report(e, { retry: reload }));
    api.waiting().then(setWaiting, () => {});
    setRefresh((r) => r + 1);
  }, [report]);

  const tasks = useTasks(reload, notify, (e) => {
    if (e.kind === "unavailable") probe();
  });
  const start = tasks.start;

  useEffect(() => {
    reload();
    api.offlineMode().then(setOffline, () => {});
    const un = listen("catalog://changed", () => reload());
    // Warnings of operations that have no progress channel (a stale lock taken over, a version
    // queued while offline, skipped log entries), and news of background work (a watched
    // folder's new version).
    const notice = listen<NoticeDto>("strata://notice", (e) => notify(e.payload.message, e.payload.tone ?? "warning"));
    // A folder dropped on the window starts "new dataset from folder" with it.
    const drop = getCurrentWebview().onDragDropEvent((e) => {
      if (e.payload.type === "drop" && e.payload.paths.length > 0) setNewFor({ folder: e.payload.paths[0] });
    });
    return () => {
      un.then((f) => f());
      notice.then((f) => f());
      drop.then((f) => f());
    };
  }, [reload, notify]);

  const pull = useCallback(
    () =>
      start({
        title: "Pull the team's catalog",
        start: (p) => api.pull(null, p),
        pausable: true,
        unit: "objects",
        describe: (r) =>
          `${r.remote}: ${r.newVersions.length} new version${r.newVersions.length === 1 ? "" : "s"}` +
          (r.renumbered.length ? `; renumbered yours: ${r.renumbered.join(", ")}` : "") +
          (r.keptLocal.length ? `; kept yours, not shared there: ${r.keptLocal.join(", ")}` : "") +
          (r.refused.length
            ? `; skipped ${r.refused.length} bad log entr${r.refused.length === 1 ? "y" : "ies"}: ${r.refused.join("; ")}`
            : ""),
      }),
    [start],
  );

  // "Upload & finalize waiting" (the Remotes page's button, the sidebar's and the `push` remedy):
  // the dialog lists what waits and the drafts, and runs finalize-then-push as one task.
  const push = useCallback(() => setWaitingOpen(true), []);

  // Pull once at start when a remote is set up: the team's new versions show up on their own.
  useEffect(() => {
    api.remotes().then(
      (r) => {
        if (r.remotes.length > 0 && !r.offline) pull();
      },
      () => {},
    );
  }, [pull]);

  const changeOffline = useCallback(
    (to: boolean) =>
      api.setOfflineMode(to).then(
        (now) => {
          setOffline(now);
          if (!now) probe();
          reload();
        },
        (e) => report(e, { retry: () => changeOffline(to) }),
      ),
    [reload, report, probe],
  );

  const remedies: AppRemedies = useMemo(
    () => ({
      login: (remote) => setRoute({ page: "remotes", login: { remote, n: nextLogin.current++ } }),
      push,
      setOffline: changeOffline,
      offline,
    }),
    [push, changeOffline, offline],
  );

  const snapshot = (dataset: string, folder: string) => {
    setNewFor(null);
    const from = routeNow.current;
    start({
      title: `Snapshot of ${folder}`,
      start: (p) => api.snapshot(dataset, folder, p),
      describe: (c) =>
        c.created ? `${dataset} ${c.version.semver}: ${changeSummary(c.changes)}` : `No changes since ${c.version.semver}; no new version.`,
      // Open the version, unless the user has gone elsewhere meanwhile.
      onDone: (c) => {
        if (routeNow.current === from) setRoute({ page: "version", id: c.version.id });
      },
    });
  };

  const current = route.page === "dataset" ? route.dataset : undefined;
  return (
    <RemediesContext.Provider value={remedies}>
      <div className="app">
        <Sidebar
          catalog={catalog}
          current={current}
          offline={offline}
          onToggleOffline={() => changeOffline(!offline)}
          unreachable={unreachableBadge(reach, offline)}
          waiting={waitingCount(waiting)}
          onWaiting={push}
          onOpen={(d) => setRoute({ page: "dataset", dataset: d })}
          onNew={() => setNewFor({})}
          onHome={() => setRoute({ page: "home" })}
          onRemotes={() => setRoute({ page: "remotes" })}
          onWatches={() => setRoute({ page: "watches" })}
          onExport={() => setSession("export")}
          onImport={() => setSession("import")}
        />
        <main>
          {failure && <ErrorView error={failure.error} remedies={failure.remedies} onDismiss={() => setFailure(null)} />}
          <Notices list={notices} onDismiss={(key) => setNotices((l) => l.filter((n) => n.key !== key))} />
          {route.page === "home" && <Welcome catalog={catalog} onNew={() => setNewFor({})} onOpen={(d) => setRoute({ page: "dataset", dataset: d })} />}
          {route.page === "dataset" && (
            <DatasetPage
              dataset={route.dataset}
              refresh={refresh}
              onOpenVersion={(id) => setRoute({ page: "version", id })}
              onNewVersion={() => setNewFor({ dataset: route.dataset })}
              onDiff={(from, to) => setRoute({ page: "diff", from, to })}
              onError={report}
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
              start={start}
              onOpenVersion={(id) => setRoute({ page: "version", id })}
              onOpenDataset={(d) => setRoute({ page: "dataset", dataset: d })}
              onDiff={(from, to) => setRoute({ page: "diff", from, to })}
              onError={report}
              onNotice={notify}
            />
          )}
          {route.page === "remotes" && (
            <RemotesPage
              refresh={refresh}
              login={route.login}
              onPull={pull}
              onPush={push}
              onError={report}
              onNotice={notify}
            />
          )}
          {route.page === "watches" && (
            <WatchesPage
              refresh={refresh}
              start={start}
              onOpenVersion={(id) => setRoute({ page: "version", id })}
              onOpenDataset={(d) => setRoute({ page: "dataset", dataset: d })}
              onError={report}
              onNotice={notify}
            />
          )}
          {route.page === "diff" && (
            <DiffView from={route.from} to={route.to} onOpenVersion={(id) => setRoute({ page: "version", id })} onError={report} />
          )}
        </main>
        <TasksPanel tasks={tasks} />
        {session === "export" && <ExportSession catalog={catalog} current={current} start={start} onClose={() => setSession(null)} />}
        {session === "import" && (
          <ImportSession
            offline={offline}
            start={start}
            onClose={() => setSession(null)}
            onImported={(r) => {
              const first = r.versions.find((v) => !v.alreadyHere);
              if (first) setRoute({ page: "dataset", dataset: first.dataset });
            }}
          />
        )}
        {waitingOpen && <WaitingDialog start={start} offline={offline} onClose={() => setWaitingOpen(false)} onError={(e) => report(e)} />}
        {newFor && <NewDataset dataset={newFor.dataset} initialFolder={newFor.folder} onCancel={() => setNewFor(null)} onSubmit={snapshot} />}
      </div>
    </RemediesContext.Provider>
  );
}
