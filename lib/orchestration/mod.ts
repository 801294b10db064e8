/**
 * Requests across the cluster: the origin plans a request and streams its tokens back
 * (`Coordinator`), every node runs its shard of the requests that pass through it
 * (`ShardWorker`), and the API serves both through the `CompletionService` contract.
 * @module
 */
export * from "./completion_service.ts";
export * from "./errors.ts";
export * from "./coordinator.ts";
export * from "./shard_worker.ts";
export * from "./plan_request.ts";
export * from "./request_meta.ts";
