namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// A small house for tests: a server, a desktop and a laptop; alice may use all three, bob only the basement, dave
/// the basement and his laptop. No hold-downs, cooldown or quiet hours, so decisions follow at once; tests of those
/// rules change them with <see cref="WithPolicy"/>.
/// </summary>
public static class TestHouse
{
    /// <summary>The test house changed by <paramref name="edit"/> on its JSON (e.g. a VM's memory).</summary>
    public static string With(Action<System.Text.Json.Nodes.JsonNode> edit)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(Json)!;
        edit(root["House"]!);
        return root.ToJsonString();
    }

    /// <summary>The test house with some Policy keys replaced, e.g. ("HoldDown", """{ "LiveMigration": "1s" }""").</summary>
    public static string WithPolicy(params (string Key, string Json)[] settings)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(Json)!;
        var policy = root["House"]!["Policy"]!.AsObject();
        foreach (var (key, json) in settings)
        {
            policy[key] = System.Text.Json.Nodes.JsonNode.Parse(json);
        }

        return root.ToJsonString();
    }

    public const string Json = """
    {
      "House": {
        "TimeZone": "Europe/Berlin",
        "Hosts": [
          { "Name": "basement", "Role": "Server", "CanRunVms": true, "LinkMbps": 10000 },
          { "Name": "imac", "Role": "Desktop", "CanRunVms": true, "LinkMbps": 1000 },
          { "Name": "laptop", "Role": "Laptop", "CanRunVms": true, "LinkMbps": 400 }
        ],
        "Users": [
          { "Name": "alice", "Vm": "alice-desktop", "HomeHost": "basement", "AllowedHosts": [ "basement", "imac", "laptop" ], "PreferredMode": "Local" },
          { "Name": "bob", "Vm": "bob-desktop", "HomeHost": "basement", "AllowedHosts": [ "basement" ], "PreferredMode": "ThinClient" },
          { "Name": "dave", "Vm": "dave-desktop", "HomeHost": "basement", "AllowedHosts": [ "basement", "laptop" ], "PreferredMode": "ThinClient" }
        ],
        "Vms": [
          { "Name": "alice-desktop", "MemoryMb": 2048, "Owner": "alice", "DisplayUri": "spice://basement:5901" },
          { "Name": "bob-desktop", "MemoryMb": 1024, "Owner": "bob", "DisplayUri": "spice://basement:5902" },
          { "Name": "dave-desktop", "MemoryMb": 1024, "Owner": "dave", "DisplayUri": "spice://basement:5904" }
        ],
        "Policy": {
          "HoldDown": { "AttachDisplay": "0s", "LiveMigration": "0s", "SuspendResume": "0s" },
          "Cooldown": "0s",
          "QuietHours": "off",
          "SharedStorage": "/tmp/presence-tests-shared"
        }
      }
    }
    """;
}
