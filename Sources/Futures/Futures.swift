// `import Futures` gives the whole library: the executor core (threads,
// futures, wait) from FuturesCore and the process pool from ProcessPool,
// both re-exported here, plus the Codable conveniences that need
// Foundation. pfutures itself imports only the lower modules, so it does
// not link Foundation.
@_exported import FuturesCore
@_exported import ProcessPool
