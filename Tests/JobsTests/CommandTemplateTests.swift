// Records into invocations: replacement strings, appending, -n, quoting.
import Jobs
import Testing

private func words(_ strings: String...) -> [[UInt8]] { strings.map { Array($0.utf8) } }

@Suite struct CommandTemplateTests {
    @Test func commandModeRunsTheRecordInTheShell() {
        #expect(CommandTemplate.command.invocation(records: words("echo hi"), sequence: 1, slot: 1)
                == .shell(script: Array("echo hi".utf8)))
    }

    @Test func recordIsAppendedWithoutReplacementStrings() {
        let template = CommandTemplate(words: words("echo", "{#}"), throughShell: false)
        #expect(template.invocation(records: words("a b"), sequence: 7, slot: 2) == .exec(argv: words("echo", "7", "a b")))
    }

    @Test func replacementStringsAreFilledIn() {
        let template = CommandTemplate(words: words("cp", "{}", "out/{/.}-{%}.bak", "{//}"), throughShell: false)
        #expect(template.invocation(records: words("d/e/f.txt"), sequence: 1, slot: 3)
                == .exec(argv: words("cp", "d/e/f.txt", "out/f-3.bak", "d/e")))
    }

    @Test func severalRecordsExpandPerWord() {
        let template = CommandTemplate(words: words("tool", "{}", "-i={}"), throughShell: false)
        #expect(template.invocation(records: words("a", "b"), sequence: 1, slot: 1)
                == .exec(argv: words("tool", "a", "b", "-i=a", "-i=b")))
    }

    @Test func customTokenReplacesOnlyItself() {
        let template = CommandTemplate(words: words("echo", "%%", "{}"), recordToken: Array("%%".utf8), throughShell: false)
        #expect(template.invocation(records: words("v"), sequence: 1, slot: 1) == .exec(argv: words("echo", "v", "{}")))
    }

    @Test func shellTemplateQuotesEveryRecord() {
        let template = CommandTemplate(words: words("echo {} | wc -c"), throughShell: true)
        #expect(template.invocation(records: words("it's $(x)"), sequence: 1, slot: 1)
                == .shell(script: Array("echo 'it'\\''s $(x)' | wc -c".utf8)))
    }

    @Test func displayQuotesOnlyWhereNeeded() {
        #expect(Invocation.exec(argv: words("touch", "a b", "plain-1.txt", "")).displayText
                == Array("touch 'a b' plain-1.txt ''".utf8))
    }
}
