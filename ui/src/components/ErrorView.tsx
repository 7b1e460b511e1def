import { createContext, useContext } from "react";
import type { ApiError } from "../api";
import { advice, offers, type LocalRemedies } from "../lib/errors";

/** What the app as a whole can do about a failure, wherever it is shown. */
export interface AppRemedies {
  /** Open the Remotes page at the login form of `remote` (the default remote when null). */
  login?: (remote: string | null) => void;
  /** Upload & finalize everything waiting. */
  push?: () => void;
  setOffline?: (offline: boolean) => void;
  offline?: boolean;
}

export const RemediesContext = createContext<AppRemedies>({});

/** A failure: the backend's message, how to act, and a button for each action that would resolve
 *  it and that this place (or the app) can take. */
export function ErrorView(props: {
  error: ApiError;
  remedies?: LocalRemedies;
  onDismiss?: () => void;
  /** `data-test` of the whole; "error" unless the place has its own. */
  test?: string;
  /** Inside a dialog or a task row rather than across the page. */
  compact?: boolean;
}) {
  const app = useContext(RemediesContext);
  const local = props.remedies ?? {};
  const e = props.error;
  const then = (f: () => void) => () => {
    props.onDismiss?.();
    f();
  };
  const buttons = offers(e).flatMap((o) => {
    switch (o) {
      case "login":
        return app.login ? [button("error-login", "Log in", then(() => app.login?.(e.remote)), true)] : [];
      case "retry":
        return local.retry ? [button("error-retry", "Retry", then(local.retry), true)] : [];
      case "offline":
        return app.setOffline && !app.offline ? [button("error-offline", "Work offline", then(() => app.setOffline?.(true)))] : [];
      case "force":
        return local.force ? [button("error-force", "Delete anyway", then(local.force), false, true)] : [];
      case "overwrite":
        return local.overwrite ? [button("error-overwrite", "Replace folder", then(local.overwrite), false, true)] : [];
      case "push":
        return app.push ? [button("error-push", "Upload & finalize waiting", then(app.push), true)] : [];
      case "go_online":
        return app.setOffline ? [button("error-online", "Go online", then(() => app.setOffline?.(false)), true)] : [];
    }
  });
  const how = advice(e);
  return (
    <div className={props.compact ? "error compact" : "error"} role="alert" data-test={props.test ?? "error"} data-kind={e.kind}>
      <div className="error-text">
        <div className="error-message">{e.message}</div>
        {how && <div className="error-advice">{how}</div>}
      </div>
      {(buttons.length > 0 || props.onDismiss) && (
        <div className="error-actions">
          {buttons}
          {props.onDismiss && (
            <button className="ghost small" onClick={props.onDismiss} aria-label="Dismiss" data-test="error-dismiss">
              ×
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function button(test: string, label: string, onClick: () => void, primary = false, danger = false) {
  return (
    <button key={test} className={`small${primary ? " primary" : ""}${danger ? " danger" : ""}`} onClick={onClick} data-test={test}>
      {label}
    </button>
  );
}
