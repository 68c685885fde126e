namespace Presence.Server.Hosting;

/// <summary>
/// A verb's own exit code where true/false is not enough (JasperFx maps them to 0 and 1): `replay` exits 2 for bad
/// input, so a script gating a settings change can tell "would differ" from "could not tell".
/// </summary>
public static class CommandExit
{
    public static int? Code { get; set; }
}
