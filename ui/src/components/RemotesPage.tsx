import { useContext, useEffect, useRef, useState } from "react";
import { api, asApiError, type ApiError, type RemoteDto, type RemotesDto } from "../api";
import type { ReportError } from "../lib/errors";
import { ErrorView, RemediesContext } from "./ErrorView";
import { Field, Modal } from "./Modal";

/** Remotes: add, test the connection, make default, store credentials in the keychain, remove;
 *  and the two sharing actions, Pull and Push. `login` opens a remote's login form (the default
 *  remote's when it names none): where an error's "Log in" leads. */
export function RemotesPage(props: {
  refresh: number;
  login?: { remote: string | null; n: number };
  onPull: () => void;
  onPush: () => void;
  onError: ReportError;
  onNotice: (m: string) => void;
}) {
  const [data, setData] = useState<RemotesDto | null>(null);
  const [adding, setAdding] = useState(false);
  const [login, setLogin] = useState<RemoteDto | null>(null);
  const [tests, setTests] = useState<Record<string, string | ApiError>>({});
  const loginShown = useRef(0);
  const load = () => api.remotes().then(setData, (e) => props.onError(e, { retry: load }));
  useEffect(() => {
    load();
  }, [props.refresh]);
  useEffect(() => {
    const want = props.login;
    if (!data || !want || loginShown.current === want.n) return;
    loginShown.current = want.n;
    const r = data.remotes.find((x) => (want.remote ? x.name === want.remote : x.isDefault));
    if (r && r.loginFields.length > 0) setLogin(r);
  }, [data, props.login]);
  const act = async (f: () => Promise<unknown>) => {
    try {
      await f();
      await load();
    } catch (e) {
      props.onError(e, { retry: () => act(f) });
    }
  };
  const test = async (name: string) => {
    setTests((t) => ({ ...t, [name]: "testing…" }));
    try {
      const p = await api.testRemote(name);
      setTests((t) => ({ ...t, [name]: `answers in ${p.millis} ms${p.writable ? ", writes work" : ", read-only"}` }));
    } catch (e) {
      setTests((t) => ({ ...t, [name]: asApiError(e) }));
    }
  };
  if (!data) return <div className="page muted">Loading…</div>;
  const waiting = data.waitingVersions + data.waitingEvents;
  return (
    <div className="page" data-test="remotes-page">
      <div className="page-head">
        <div>
          <h1>Remotes</h1>
          <div className="muted">
            Datasets are shared through a bucket or a shared folder; every workstation with the address sees the same catalog.
          </div>
        </div>
        <div className="actions">
          <button className="primary" onClick={() => setAdding(true)} data-test="add-remote">
            + Add remote
          </button>
          <button onClick={props.onPull} disabled={data.remotes.length === 0} data-test="pull">
            Pull
          </button>
          <button onClick={props.onPush} disabled={waiting === 0} data-test="push">
            Upload &amp; finalize waiting ({waiting})
          </button>
        </div>
      </div>
      {data.remotes.length === 0 && (
        <div className="empty">
          No remote yet. Add an S3 bucket (or an S3-compatible server), Azure container, Google Cloud Storage bucket or a shared
          folder to share datasets with your team.
        </div>
      )}
      <table className="remotes">
        <tbody>
          {data.remotes.map((r) => (
            <tr key={r.name} data-test={`remote-${r.name}`}>
              <td>
                <strong>{r.name}</strong> {r.isDefault && <span className="badge final">default</span>}
                <div className="mono muted">{r.url}</div>
                {r.endpoint && <div className="muted">endpoint {r.endpoint}</div>}
                {typeof tests[r.name] === "string" && (
                  <div className="muted" data-test="remote-test-result">
                    {tests[r.name] as string}
                  </div>
                )}
                {typeof tests[r.name] === "object" && (
                  <ErrorView error={tests[r.name] as ApiError} remedies={{ retry: () => test(r.name) }} compact test="remote-test-result" />
                )}
              </td>
              <td className="actions">
                <button className="small" onClick={() => test(r.name)} data-test="test-remote">
                  Test connection
                </button>
                {r.loginFields.length > 0 && (
                  <button className="small" onClick={() => setLogin(r)} data-test="remote-credentials">
                    Credentials…
                  </button>
                )}
                {!r.isDefault && (
                  <button className="small" onClick={() => act(() => api.setDefaultRemote(r.name))}>
                    Make default
                  </button>
                )}
                <button className="danger small" onClick={() => act(() => api.removeRemote(r.name))}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {adding && (
        <AddRemote
          onCancel={() => setAdding(false)}
          onDone={(name) => {
            setAdding(false);
            props.onNotice(`Added remote ${name}.`);
            load();
          }}
        />
      )}
      {login && (
        <Login
          remote={login}
          onCancel={() => setLogin(null)}
          onDone={(where) => {
            props.onNotice(`Credentials for ${login.name} are in the ${where}, and the remote accepts them.`);
            setLogin(null);
          }}
        />
      )}
    </div>
  );
}

function AddRemote(props: { onCancel: () => void; onDone: (name: string) => void }) {
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [endpoint, setEndpoint] = useState("");
  const [region, setRegion] = useState("");
  const [allowHttp, setAllowHttp] = useState(false);
  const [isDefault, setIsDefault] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async () => {
    setError(null);
    try {
      await api.addRemote({ name, url, endpoint: endpoint || null, region: region || null, allowHttp, isDefault });
      props.onDone(name);
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <Modal
      title="Add a remote"
      onClose={props.onCancel}
      footer={
        <>
          <button onClick={props.onCancel}>Cancel</button>
          <button className="primary" onClick={submit} disabled={!name || !url} data-test="remote-add-submit">
            Add
          </button>
        </>
      }
    >
      <Field label="Name">
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="team" data-test="remote-name" />
      </Field>
      <Field label="Address">
        <input
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          placeholder="s3://bucket/prefix, azure://container, gs://bucket, file:///mnt/share"
          data-test="remote-url"
        />
      </Field>
      <Field label="Endpoint (S3-compatible servers, Azurite)">
        <input value={endpoint} onChange={(e) => setEndpoint(e.target.value)} placeholder="https://minio.example:9000" />
      </Field>
      <Field label="Region">
        <input value={region} onChange={(e) => setRegion(e.target.value)} placeholder="us-east-1" />
      </Field>
      <label className="check">
        <input type="checkbox" checked={allowHttp} onChange={(e) => setAllowHttp(e.target.checked)} /> Allow plain HTTP to the endpoint
      </label>
      <label className="check">
        <input type="checkbox" checked={isDefault} onChange={(e) => setIsDefault(e.target.checked)} /> Make it the default
      </label>
      {error && <ErrorView error={error} remedies={{ retry: submit }} compact test="remote-add-error" />}
    </Modal>
  );
}

function Login(props: { remote: RemoteDto; onCancel: () => void; onDone: (where: string) => void }) {
  const [values, setValues] = useState<string[]>(props.remote.loginFields.map(() => ""));
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const app = useContext(RemediesContext);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      props.onDone(await api.login(props.remote.name, values));
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title={`Credentials for ${props.remote.name}`}
      onClose={props.onCancel}
      footer={
        <>
          <button onClick={props.onCancel}>Cancel</button>
          <button className="primary" onClick={submit} disabled={busy || values.some((v) => !v.trim())}>
            {busy ? "Checking…" : "Save to keychain"}
          </button>
        </>
      }
    >
      <div className="muted">Kept in the OS keychain, never in the catalog. They are checked with a test write before they are kept.</div>
      {props.remote.loginFields.map((f, i) => (
        <Field key={f.key} label={f.label}>
          <input
            type={f.secret ? "password" : "text"}
            value={values[i]}
            onChange={(e) => setValues(values.map((v, j) => (j === i ? e.target.value : v)))}
            autoComplete="off"
          />
        </Field>
      ))}
      {error && (
        // This is the login form: an error here offers no "Log in".
        <RemediesContext.Provider value={{ ...app, login: undefined }}>
          <ErrorView error={error} remedies={{ retry: submit }} compact test="login-error" />
        </RemediesContext.Provider>
      )}
    </Modal>
  );
}
