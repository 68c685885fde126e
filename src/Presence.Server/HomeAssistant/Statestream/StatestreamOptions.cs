using System.Text.RegularExpressions;
using Presence.Server.Configuration;

namespace Presence.Server.HomeAssistant.Statestream;

/// <summary>What a Home Assistant entity tells Presence (<see cref="StatestreamEntityOptions.Signal"/>).</summary>
public enum StatestreamSignal
{
    /// <summary>person.* or device_tracker.*: home, not_home or a zone; for a user.</summary>
    Person,

    /// <summary>A room-presence sensor (mqtt_room / ESPresense, Bermuda's area sensor): the room a user is in.</summary>
    Room,

    /// <summary>A computer's session sensor (HASS.Agent SessionState, the Mac app's Active): a user's session there.</summary>
    Session,

    /// <summary>A laptop's battery state sensor (the Mac app's Battery State): on mains or not.</summary>
    Power,

    /// <summary>A laptop's Wi-Fi SSID sensor (the Mac app's SSID): the network it is on.</summary>
    Wifi,
}

/// <summary>One mapped entity: its id, what it tells, and about whom or which computer.</summary>
public sealed class StatestreamEntityOptions
{
    public string Entity { get; set; } = "";
    public StatestreamSignal Signal { get; set; }
    public string? User { get; set; }
    public string? Host { get; set; }
}

/// <summary>
/// The `HomeAssistant:Statestream` section: Home Assistant's mqtt_statestream publishes each state change of the
/// entities it includes under <see cref="BaseTopic"/> as `&lt;base&gt;/&lt;domain&gt;/&lt;object_id&gt;/state` (a plain string, retained).
/// Presence listens to the entities mapped here and nothing else. No entities: Presence does not listen at all.
/// </summary>
public sealed class StatestreamOptions
{
    public const string Section = "HomeAssistant:Statestream";

    /// <summary>
    /// mqtt_statestream's base_topic, which HA requires and gives no default (mqtt_statestream/__init__.py). Not
    /// `homeassistant` itself: that is HA's discovery prefix, where others publish too.
    /// </summary>
    public string BaseTopic { get; set; } = "homeassistant/statestream";

    /// <summary>The MQTT identity Home Assistant connects as: the only one allowed to publish under <see cref="BaseTopic"/>.</summary>
    public string Identity { get; set; } = "homeassistant";

    public List<StatestreamEntityOptions> Entities { get; set; } = [];

    /// <summary>A room's name as the room sensors say it (case ignored) → the computer in that room.</summary>
    public Dictionary<string, string> Rooms { get; set; } = [];

    public bool Enabled => Entities.Count > 0;
}

/// <summary>Checks the section at start; each failure names its key.</summary>
public static partial class StatestreamValidation
{
    // homeassistant/core.py VALID_ENTITY_ID, simplified: lower-case letters, digits and '_' on both sides of one dot.
    [GeneratedRegex(@"^[a-z0-9_]+\.[a-z0-9_]+\z")]
    private static partial Regex EntityId();

    public static IEnumerable<string> Check(StatestreamOptions ha, HouseOptions house, MqttOptions mqtt)
    {
        const string key = StatestreamOptions.Section;
        if (!ha.Enabled)
        {
            yield break;
        }

        var root = mqtt.TopicRoot;
        if (string.IsNullOrWhiteSpace(ha.BaseTopic) || ha.BaseTopic.IndexOfAny(['+', '#']) >= 0 || ha.BaseTopic.EndsWith('/') || ha.BaseTopic.StartsWith('/'))
        {
            yield return $"{key}:BaseTopic '{ha.BaseTopic}' must be non-empty, without wildcards or a leading or trailing '/' (mqtt_statestream's base_topic)";
        }
        else if (ha.BaseTopic == "homeassistant")
        {
            yield return $"{key}:BaseTopic 'homeassistant' is Home Assistant's discovery prefix, where Presence and others publish their entities: " +
                "give mqtt_statestream a base_topic of its own, e.g. homeassistant/statestream, and the same here";
        }
        else if (ha.BaseTopic == root || ha.BaseTopic.StartsWith(root + "/", StringComparison.Ordinal) || root.StartsWith(ha.BaseTopic + "/", StringComparison.Ordinal))
        {
            yield return $"{key}:BaseTopic '{ha.BaseTopic}' overlaps Presence's own topics under Mqtt:TopicRoot '{root}'";
        }

        if (!mqtt.Controllers.Contains(ha.Identity))
        {
            yield return $"{key}:Identity '{ha.Identity}' is not one of Mqtt:Controllers ({string.Join(", ", mqtt.Controllers)}): Home Assistant could not connect to publish its states";
        }

        var hosts = house.Hosts.Select(h => h.Name).ToHashSet();
        var users = house.Users.ToDictionary(u => u.Name);
        var seen = new HashSet<string>();
        for (var i = 0; i < ha.Entities.Count; i++)
        {
            var e = ha.Entities[i];
            var at = $"{key}:Entities:{i}";
            if (!EntityId().IsMatch(e.Entity))
            {
                yield return $"{at}:Entity '{e.Entity}' is not a Home Assistant entity id such as person.alice or sensor.imac_sessionstate";
                continue;
            }

            if (!seen.Add(e.Entity))
            {
                yield return $"{at}:Entity '{e.Entity}' is mapped twice";
            }

            var domain = e.Entity[..e.Entity.IndexOf('.')];
            string[] domains = e.Signal switch
            {
                StatestreamSignal.Person => ["person", "device_tracker"],
                StatestreamSignal.Session => ["sensor", "binary_sensor"],
                _ => ["sensor"],
            };
            if (!domains.Contains(domain))
            {
                yield return $"{at}:Entity '{e.Entity}' cannot be a {e.Signal} signal: expected an entity of {string.Join(" or ", domains)}";
            }

            var needsUser = e.Signal is StatestreamSignal.Person or StatestreamSignal.Room or StatestreamSignal.Session;
            var needsHost = e.Signal is StatestreamSignal.Session or StatestreamSignal.Power or StatestreamSignal.Wifi;
            if (needsUser && string.IsNullOrWhiteSpace(e.User))
            {
                yield return $"{at}:User is missing: a {e.Signal} signal is about one of House:Users";
            }
            else if (needsUser && !users.ContainsKey(e.User!))
            {
                yield return $"{at}:User '{e.User}' is not one of House:Users ({string.Join(", ", users.Keys)})";
            }
            else if (!needsUser && e.User is not null)
            {
                yield return $"{at}:User must not be set: a {e.Signal} signal is about the computer ({at}:Host), not a person";
            }

            if (needsHost && string.IsNullOrWhiteSpace(e.Host))
            {
                yield return $"{at}:Host is missing: a {e.Signal} signal is about one of House:Hosts";
            }
            else if (needsHost && !hosts.Contains(e.Host!))
            {
                yield return $"{at}:Host '{e.Host}' is not one of House:Hosts ({string.Join(", ", hosts)})";
            }
            else if (!needsHost && e.Host is not null)
            {
                yield return $"{at}:Host must not be set: a {e.Signal} signal names no computer (rooms map to computers in {key}:Rooms)";
            }
            else if (e.Signal == StatestreamSignal.Session && e.User is { } user && users.TryGetValue(user, out var spec) && !spec.AllowedHosts.Contains(e.Host!))
            {
                yield return $"{at}:Host '{e.Host}' is not among {user}'s House:Users AllowedHosts ({string.Join(", ", spec.AllowedHosts)})";
            }
        }

        foreach (var (room, computer) in ha.Rooms)
        {
            if (string.IsNullOrWhiteSpace(room))
            {
                yield return $"{key}:Rooms has an empty room name";
            }

            if (!hosts.Contains(computer))
            {
                yield return $"{key}:Rooms:{room} '{computer}' is not one of House:Hosts ({string.Join(", ", hosts)})";
            }
        }

        if (ha.Entities.Any(e => e.Signal == StatestreamSignal.Room) && ha.Rooms.Count == 0)
        {
            yield return $"{key}:Rooms is empty: a Room signal needs the computer in each room (e.g. \"office\": \"imac\")";
        }
    }
}
