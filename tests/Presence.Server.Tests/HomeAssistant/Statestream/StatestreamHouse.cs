using System.Text.Json.Nodes;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.HomeAssistant.Statestream;

/// <summary>
/// The test house with Home Assistant's entities mapped (HomeAssistant:Statestream): alice's person, her Bluetooth
/// room sensor, HASS.Agent's session sensor on the iMac, and the laptop's battery state; the office holds the iMac.
/// </summary>
public static class StatestreamHouse
{
    public const string Base = "homeassistant/statestream";

    public static string Topic(string entity) => $"{Base}/{entity.Replace('.', '/')}/state";

    public const string Mapping = """
    {
      "Statestream": {
        "Entities": [
          { "Entity": "person.alice", "Signal": "Person", "User": "alice" },
          { "Entity": "sensor.alice_room", "Signal": "Room", "User": "alice" },
          { "Entity": "sensor.imac_sessionstate", "Signal": "Session", "Host": "imac", "User": "alice" },
          { "Entity": "sensor.laptop_battery_state", "Signal": "Power", "Host": "laptop" }
        ],
        "Rooms": { "office": "imac", "Server room": "basement" }
      }
    }
    """;

    /// <summary>The test house (changed by <paramref name="edit"/>) with <paramref name="mapping"/> as its HomeAssistant section.</summary>
    public static string Json(Action<JsonNode>? edit = null, string mapping = Mapping)
    {
        var root = JsonNode.Parse(edit is null ? TestHouse.Json : TestHouse.With(edit))!;
        root["HomeAssistant"] = JsonNode.Parse(mapping);
        return root.ToJsonString();
    }
}
