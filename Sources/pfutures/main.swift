// The pfutures executable: hands argv, as bytes, to PfuturesCLI.
import PfuturesCLI
#if canImport(Glibc)
import Glibc
#endif

let arguments = (1..<Int(CommandLine.argc)).map { index in
    let word = CommandLine.unsafeArgv[index]!
    return Array(UnsafeRawBufferPointer(start: word, count: strlen(word)))
}
exit(PfuturesMain.main(arguments))
