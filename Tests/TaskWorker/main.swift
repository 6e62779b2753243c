// The worker program of the process-pool tests: a host program that
// registers its tasks and serves them when started as a worker.
import Futures
import TaskFixtures

ProcessPoolExecutor.serveIfWorker(allTasks)
print("task-worker: start me through ProcessPoolExecutor")
