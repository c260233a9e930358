// The one home of the view library: Preact's `h` bound to htm's tagged templates (no JSX, so no
// build step), and the hooks the pages use.
import { h, render, createContext } from "../vendor/preact.js";
import htm from "../vendor/htm.js";

export { render, createContext };
export {
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "../vendor/hooks.js";

export const html = htm.bind(h);
