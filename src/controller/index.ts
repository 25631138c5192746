export {
  Controller,
  type ControllerOptions,
  controllerOwnerKey,
  type InformerSource,
  keyOf,
  type ObjectKey,
  type Reconcile,
  type ReconcileResult,
  type Watched,
} from "./controller.ts";
export { type FinalizerEvent, finalizer } from "./finalizer.ts";
