import MigscopeCLI

await MigscopeMain.run(CommandLine.arguments)
