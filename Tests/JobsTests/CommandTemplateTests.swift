// Records into invocations: replacement strings, appending, -n, -X,
// sources' tuples and columns, quoting.
import Jobs
import Testing

private func words(_ strings: String...) -> [[UInt8]] { strings.map { Array($0.utf8) } }
private func records(_ strings: String...) -> [InputRecord] { strings.map { InputRecord(Array($0.utf8)) } }

@Suite struct CommandTemplateTests {
    @Test func commandModeRunsTheRecordInTheShell() {
        #expect(CommandTemplate.command.invocation(records: records("echo hi"), sequence: 1, slot: 1)
                == .shell(script: Array("echo hi".utf8)))
    }

    @Test func recordIsAppendedWithoutReplacementStrings() {
        let template = CommandTemplate(words: words("echo", "job"), throughShell: false)
        #expect(template.invocation(records: records("a b"), sequence: 7, slot: 2) == .exec(argv: words("echo", "job", "a b")))
    }

    @Test func sequenceAndSlotAreReplacementStringsToo() {
        // GNU parallel: `echo job {#}` prints "job 1", not "job 1 RECORD".
        let template = CommandTemplate(words: words("echo", "{#}", "{%}"), throughShell: false)
        #expect(template.invocation(records: records("a b"), sequence: 7, slot: 2) == .exec(argv: words("echo", "7", "2")))
    }

    @Test func replacementStringsAreFilledIn() {
        let template = CommandTemplate(words: words("cp", "{}", "out/{/.}-{%}.bak", "{//}"), throughShell: false)
        #expect(template.invocation(records: records("d/e/f.txt"), sequence: 1, slot: 3)
                == .exec(argv: words("cp", "d/e/f.txt", "out/f-3.bak", "d/e")))
    }

    @Test func severalRecordsAreJoinedInsideAWordAndRepeatedWithX() {
        let joined = CommandTemplate(words: words("tool", "{}", "-i={}"), throughShell: false)
        #expect(joined.invocation(records: records("a", "b"), sequence: 1, slot: 1)
                == .exec(argv: words("tool", "a", "b", "-i=a b")))
        let repeated = CommandTemplate(words: words("tool", "{}", "-i={}"), throughShell: false, repeatPerWord: true)
        #expect(repeated.invocation(records: records("a", "b"), sequence: 1, slot: 1)
                == .exec(argv: words("tool", "a", "b", "-i=a", "-i=b")))
    }

    @Test func positionalValuesAndTheirForms() {
        let template = CommandTemplate(words: words("x", "{2}", "{1/.}", "{1//}", "{3}", "{2.}"), throughShell: false)
        let tuple = InputRecord(words: words("d/f.tar.gz", "b.c"))
        #expect(template.invocation(records: [tuple], sequence: 1, slot: 1)
                == .exec(argv: words("x", "b.c", "f.tar", "d", "", "b")))
    }

    @Test func aTupleIsOneWordPerValueAndColumnsComeFromColsep() {
        let appended = CommandTemplate(words: words("echo"), throughShell: false)
        #expect(appended.invocation(records: [InputRecord(words: words("a", "b"))], sequence: 1, slot: 1)
                == .exec(argv: words("echo", "a", "b")))
        let line = InputRecord(words: words("a,b"), columns: words("a", "b"))
        #expect(appended.invocation(records: [line], sequence: 1, slot: 1) == .exec(argv: words("echo", "a", "b")))
        let whole = CommandTemplate(words: words("echo", "{}", "{2}"), throughShell: false)
        #expect(whole.invocation(records: [line], sequence: 1, slot: 1) == .exec(argv: words("echo", "a,b", "b")))
    }

    @Test func namesNeedAHeaderAndUnknownNamesStayText() {
        let plain = CommandTemplate(words: words("awk", "{print}", "{age}"), throughShell: false)
        #expect(plain.resolving(names: words("age")).invocation(records: records("v"), sequence: 1, slot: 1)
                == .exec(argv: words("awk", "{print}", "{age}", "v")))
        let named = CommandTemplate(words: words("awk", "{print}", "{age}"), throughShell: false, namedColumns: true)
            .resolving(names: words("name", "age"))
        #expect(named.invocation(records: [InputRecord(words: words("bob 3"), columns: words("bob", "3"))],
                                 sequence: 1, slot: 1) == .exec(argv: words("awk", "{print}", "3")))
    }

    @Test func shellTemplateQuotesEachValueOfSeveralRecords() {
        // #15: `-n 2 --shell-template 'rm -f {}'` is one rm of both.
        let template = CommandTemplate(words: words("rm -f {}"), throughShell: true)
        #expect(template.invocation(records: records("a", "b c"), sequence: 1, slot: 1)
                == .shell(script: Array("rm -f 'a' 'b c'".utf8)))
    }

    @Test func customTokenReplacesOnlyItself() {
        let template = CommandTemplate(words: words("echo", "%%", "{}"), recordToken: Array("%%".utf8), throughShell: false)
        #expect(template.invocation(records: records("v"), sequence: 1, slot: 1) == .exec(argv: words("echo", "v", "{}")))
    }

    @Test func shellTemplateQuotesEveryRecord() {
        let template = CommandTemplate(words: words("echo {} | wc -c"), throughShell: true)
        #expect(template.invocation(records: records("it's $(x)"), sequence: 1, slot: 1)
                == .shell(script: Array("echo 'it'\\''s $(x)' | wc -c".utf8)))
    }

    @Test func displayQuotesOnlyWhereNeeded() {
        #expect(Invocation.exec(argv: words("touch", "a b", "plain-1.txt", "")).displayText
                == Array("touch 'a b' plain-1.txt ''".utf8))
    }
}
