using System.Globalization;
using JasperFx.CommandLine;
using Presence.Server.Hosting;

namespace Presence.Server.Demo;

public class DemoInput
{
    [Description("Everything this many times faster (Demo:Speed; 2 takes about half a minute)")]
    public double? SpeedFlag { get; set; }

    [FlagAlias("story", 't')]
    [Description("day (the default), ping-pong, quiet-hours or flapping-wifi: the bad moves people ask about")]
    public string? StoryFlag { get; set; }

    [Description("Afterwards, write the story's users' histories to this directory as <story>-<user>.jsonl (replay them with `replay --history`)")]
    public string? ExportFlag { get; set; }
}

/// <summary>
/// `demo`: a verb like every other, parsed by the same command line; the house overrides it also takes
/// (--Demo:…=…, --Mqtt:Port=…, --ConnectionStrings:Presence=…) reach it as <see cref="HouseArguments"/>.
/// </summary>
[Description("Play the house's story against simulated agents, over the real broker and event store; house overrides "
    + "(--config, --Demo:AgentSpeedFactor=…, --Demo:Computers:<host>:MemoryMb=…, --Mqtt:Port=…) as for every verb, listed in docs/demo.md",
    Name = DemoCommand.Verb)]
public sealed class DemoVerb : JasperFxAsyncCommand<DemoInput>
{
    [InjectService]
    public HouseArguments House { get; set; } = null!;

    public override async Task<bool> Execute(DemoInput input)
    {
        var request = new DemoRequest(
            House.Settings, input.SpeedFlag?.ToString(CultureInfo.InvariantCulture), input.StoryFlag, input.ExportFlag);
        var exit = await DemoCommand.RunAsync(request, Console.Out);
        CommandExit.Code = exit;
        return exit == 0;
    }
}
