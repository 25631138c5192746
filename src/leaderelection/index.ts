/**
 * `kubekit/leaderelection`: client-go's `tools/leaderelection` with the `leases` lock. Candidates
 * compete for one `coordination.k8s.io/v1` Lease; the holder renews it every retry period and gives
 * up leading when no renewal succeeds within the renew deadline; the others take over once the
 * record has not changed for the lease duration *on their own clock*. Time comes from an injectable
 * `Clock`. There are no default durations: `DEFAULT_*_MS` are client-go's usual values to pass.
 *
 * ```ts
 * const elector = new LeaderElector({
 *   client, namespace: "default", name: "my-controller", identity: `${hostname()}-${randomUUID()}`,
 *   leaseDurationMs: DEFAULT_LEASE_DURATION_MS,
 *   renewDeadlineMs: DEFAULT_RENEW_DEADLINE_MS,
 *   retryPeriodMs: DEFAULT_RETRY_PERIOD_MS,
 *   releaseOnCancel: true,
 *   callbacks: {
 *     onStartedLeading: ({ signal }) => runController(signal),
 *     onStoppedLeading: () => console.log("stopped leading"),
 *     onNewLeader: (id) => console.log(`${id} leads`),
 *   },
 * });
 * await elector.run({ signal });
 * ```
 */
export {
  DEFAULT_LEASE_DURATION_MS,
  DEFAULT_RENEW_DEADLINE_MS,
  DEFAULT_RETRY_PERIOD_MS,
  JITTER_FACTOR,
  type LeaderCallbacks,
  LeaderElectionError,
  LeaderElector,
  type LeaderElectorOptions,
  LeadershipLostError,
  type LeaseClient,
  microTime,
} from "./leader-elector.ts";
