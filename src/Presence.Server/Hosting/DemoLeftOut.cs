using JasperFx.CommandLine;

namespace Presence.Server.Hosting;

/// <summary>
/// `demo` in a server built without it (a published server, see Presence.Server.csproj): the verb stays in the help,
/// and says in one line where the demo is instead of JasperFx's "unknown command".
/// </summary>
[Description("Play the house's story against simulated agents (not in this build: run it from a checkout)", Name = "demo")]
public sealed class DemoLeftOut : JasperFxCommand<DemoLeftOut.NoInput>
{
    public const string Message =
        "presence: this server was built without the demo (it needs the agent's code); from a checkout of Presence run: dotnet run --project src/Presence.Server -- demo";

    public class NoInput;

    public override bool Execute(NoInput input)
    {
        Console.Error.WriteLine(Message);
        CommandExit.Code = 2;
        return false;
    }
}
