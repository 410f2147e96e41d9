// Modal dialogs (native <dialog>: focus trapping and Escape for free), the
// confirm() every destructive action goes through, and toasts.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api/client";
import { Button } from "./ui";

export function Modal(props: { title: string; open: boolean; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  // The close event of a dialog we closed ourselves arrives later; it must
  // not close the dialog again if it was reopened in between.
  const closedByUs = useRef(false);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal?.() ?? d.setAttribute("open", "");
    if (!props.open && d.open) {
      closedByUs.current = true;
      d.close?.() ?? d.removeAttribute("open");
    }
  }, [props.open]);
  const onClose = () => {
    if (closedByUs.current) {
      closedByUs.current = false;
      return;
    }
    props.onClose();
  };
  return (
    <dialog ref={ref} class={props.wide ? "modal wide" : "modal"} aria-label={props.title} onClose={onClose} onCancel={(e) => { e.preventDefault(); props.onClose(); }}>
      {props.open && (
        <>
          <header class="modal-header">
            <h2>{props.title}</h2>
            <button type="button" class="icon-btn" aria-label="Close" onClick={props.onClose}>×</button>
          </header>
          <div class="modal-body">{props.children}</div>
        </>
      )}
    </dialog>
  );
}

interface ConfirmRequest {
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  danger: boolean;
  resolve: (ok: boolean) => void;
}

let pushConfirm: ((r: ConfirmRequest) => void) | undefined;

/** confirm asks before a destructive action; resolves true when confirmed. */
export function confirm(opts: { title: string; message: ComponentChildren; confirmLabel?: string; danger?: boolean }): Promise<boolean> {
  return new Promise((resolve) => {
    if (!pushConfirm) return resolve(window.confirm(String(opts.message)));
    pushConfirm({ confirmLabel: "Confirm", danger: true, ...opts, resolve });
  });
}

/** ConfirmHost renders the pending confirm(); mounted once by the app. */
export function ConfirmHost() {
  const [req, setReq] = useState<ConfirmRequest | null>(null);
  useEffect(() => {
    pushConfirm = setReq;
    return () => { pushConfirm = undefined; };
  }, []);
  const done = (ok: boolean) => {
    req?.resolve(ok);
    setReq(null);
  };
  return (
    <Modal title={req?.title ?? ""} open={!!req} onClose={() => done(false)}>
      <div class="confirm-message">{req?.message}</div>
      <div class="form-actions">
        <Button onClick={() => done(false)}>Cancel</Button>
        <Button variant={req?.danger ? "danger" : "primary"} onClick={() => done(true)} autoFocus>{req?.confirmLabel}</Button>
      </div>
    </Modal>
  );
}

/**
 * confirmDelete asks first, then sends DELETE path and toasts done. It
 * resolves true once deleted and false when cancelled or refused; the API's
 * refusal is toasted, or handed to onError when the page shows it elsewhere.
 */
export async function confirmDelete(opts: {
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  path: string;
  done?: string;
  onError?: (e: Error) => void;
}): Promise<boolean> {
  if (!(await confirm({ title: opts.title, message: opts.message, confirmLabel: opts.confirmLabel }))) return false;
  try {
    await api.del(opts.path);
  } catch (e) {
    if (opts.onError) opts.onError(e as Error);
    else toast((e as Error).message, "error");
    return false;
  }
  if (opts.done) toast(opts.done);
  return true;
}

interface Toast { id: number; text: string; tone: "ok" | "error" }
let pushToast: ((t: Toast) => void) | undefined;
let toastSeq = 0;

/** toast shows a short message at the corner for a few seconds. */
export function toast(text: string, tone: "ok" | "error" = "ok"): void {
  pushToast?.({ id: ++toastSeq, text, tone });
}

export function ToastHost() {
  const [toasts, setToasts] = useState<Toast[]>([]);
  useEffect(() => {
    pushToast = (t) => {
      setToasts((ts) => [...ts, t]);
      setTimeout(() => setToasts((ts) => ts.filter((x) => x.id !== t.id)), 4000);
    };
    return () => { pushToast = undefined; };
  }, []);
  return (
    <div class="toasts" aria-live="polite">
      {toasts.map((t) => <div key={t.id} class={`toast toast-${t.tone}`} role="status">{t.text}</div>)}
    </div>
  );
}
