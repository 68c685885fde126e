using System.Globalization;
using JasperFx.CommandLine;

namespace Presence.Server.Demo;

public class DemoInput
{
    [Description("Everything this many times faster (2 takes about half a minute)")]
    public double? SpeedFlag { get; set; }
}

/// <summary>
/// `demo` in the command line's help. Program.cs hands `demo …` to <see cref="DemoCommand"/> before JasperFx sees it,
/// since the demo takes house overrides (--Demo:…=…) that JasperFx would reject; this verb forwards the same way.
/// </summary>
[Description("Play the house's story against simulated agents, over the real broker and event store (`demo --help` for its switches)", Name = "demo")]
public sealed class DemoVerb : JasperFxAsyncCommand<DemoInput>
{
    public override async Task<bool> Execute(DemoInput input)
    {
        string[] args = input.SpeedFlag is { } speed ? ["--speed", speed.ToString(CultureInfo.InvariantCulture)] : [];
        return await DemoCommand.RunAsync(args, Console.Out) == 0;
    }
}
