namespace Presence.Server.Hosting;

public static class CommandLine
{
    /// <summary>
    /// Takes `--name value` or `--name=value` out of the arguments (the last one wins), so the rest can go to .NET
    /// configuration, which would read `--name` as a key of its own.
    /// </summary>
    public static (string? Value, string[] Remaining) Take(string[] args, string name)
    {
        var rest = new List<string>();
        string? value = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == name && i + 1 < args.Length)
            {
                value = args[++i];
            }
            else if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                value = args[i][(name.Length + 1)..];
            }
            else
            {
                rest.Add(args[i]);
            }
        }

        return (value, rest.ToArray());
    }
}
