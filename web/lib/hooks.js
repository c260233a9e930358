// Loading data into a page: one hook for a request that may repeat on a timer.
import { useCallback, useEffect, useRef, useState } from "./html.js";

// Runs `load` when `deps` change, and again every `everyMs` while `everyMs` is set and the tab
// is visible (a hidden tab does not poll). Gives {data, error, reload}: data is undefined until
// the first answer; a refresh keeps the last data on screen while it runs, and a failed one
// keeps it too, beside the error. Answers that arrive after newer requests started are dropped,
// so a slow reply cannot overwrite a fresher one.
export function useResource(load, deps, everyMs = 0) {
  const [state, setState] = useState({ data: undefined, error: null });
  const generation = useRef(0);
  const run = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const data = await load();
      if (mine === generation.current) setState({ data, error: null });
    } catch (error) {
      if (mine === generation.current) setState((s) => ({ ...s, error }));
    }
  }, deps);
  useEffect(() => {
    setState({ data: undefined, error: null });
    run();
  }, [run]);
  useEffect(() => {
    if (!everyMs) return undefined;
    const timer = setInterval(() => {
      if (!document.hidden) run();
    }, everyMs);
    return () => clearInterval(timer);
  }, [run, everyMs]);
  return { ...state, reload: run };
}

// `value`, once it has stopped changing for `ms`.
export function useDebounced(value, ms) {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

// A write the user started (a button): `run(fn)` awaits fn, keeps `busy` while it runs and
// shows what it returned (a sentence) or why it failed. Buttons disable while busy, so a
// double click does not send it twice.
export function useAction() {
  const [state, setState] = useState({ busy: false, message: "", error: null });
  const run = useCallback(async (fn) => {
    setState({ busy: true, message: "", error: null });
    try {
      const message = await fn();
      setState({ busy: false, message: typeof message === "string" ? message : "", error: null });
    } catch (error) {
      setState({ busy: false, message: "", error });
    }
  }, []);
  return { ...state, run };
}
