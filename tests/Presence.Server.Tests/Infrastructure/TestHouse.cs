namespace Presence.Server.Tests.Infrastructure;

/// <summary>A small house for tests: a server, a desktop and a laptop; alice may use all three, bob only the basement.</summary>
public static class TestHouse
{
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
          { "Name": "bob", "Vm": "bob-desktop", "HomeHost": "basement", "AllowedHosts": [ "basement" ], "PreferredMode": "ThinClient" }
        ],
        "Vms": [
          { "Name": "alice-desktop", "MemoryMb": 2048, "Owner": "alice", "DisplayUri": "spice://basement:5901" },
          { "Name": "bob-desktop", "MemoryMb": 1024, "Owner": "bob", "DisplayUri": "spice://basement:5902" }
        ]
      }
    }
    """;
}
