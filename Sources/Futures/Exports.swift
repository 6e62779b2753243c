// `import Futures` gives the whole library: the executor core (threads,
// futures, wait) from FuturesCore, re-exported here, and the process pool,
// which lives in this module because it needs Foundation. pfutures itself
// imports only FuturesCore, so it does not link Foundation.
@_exported import FuturesCore
