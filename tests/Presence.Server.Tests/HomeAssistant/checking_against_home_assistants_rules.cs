using System.Text;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// The conformance check itself: it must accept what HA accepts (abbreviations, `~`) and name what HA refuses or
/// misreads, or a green conformance test would prove nothing.
/// </summary>
public sealed class checking_against_home_assistants_rules
{
    private static Dictionary<string, byte[]> Retained(params (string Topic, string Payload)[] messages) =>
        messages.ToDictionary(m => m.Topic, m => Encoding.UTF8.GetBytes(m.Payload));

    private const string Status = """{"state":"online","version":"1"}""";

    [Fact]
    public void an_abbreviated_config_with_a_topic_base_reads_as_the_full_one()
    {
        var report = HaConformance.Check(Retained(
            ("homeassistant/device/p_dev/config", """
                {"dev":{"ids":["p_dev"],"name":"Dev"},"o":{"name":"P"},
                 "cmps":{"s":{"p":"switch","uniq_id":"p_dev_s","name":"S","~":"p/dev","stat_t":"~/s","cmd_t":"~/s/set",
                             "avty":[{"t":"p/status","val_tpl":"{{ value_json.state }}"}],"avty_mode":"all"}}}
                """),
            ("p/dev/s", "ON"),
            ("p/status", Status)), "homeassistant");

        Assert.Empty(report.Violations);
        var component = Assert.Single(report.Components);
        Assert.Equal("p/dev/s", component.Config["state_topic"]!.GetValue<string>());
        Assert.Equal("p/dev/s/set", component.Config["command_topic"]!.GetValue<string>());
        Assert.Equal(["p/dev/s"], report.StateTopics);
    }

    [Fact]
    public void what_home_assistant_refuses_or_misreads_is_named()
    {
        var report = HaConformance.Check(Retained(
            ("homeassistant/device/bad.id/config", """{"device":{"identifiers":["x"],"name":"X"},"origin":{"name":"P"},"components":{}}"""),
            ("homeassistant/device/p_dev/config", """
                {"device":{"identifiers":["p_dev"],"via_device":"nobody"},"origin":{"name":"P"},"~":"p",
                 "components":{
                   "a":{"platform":"sensor","unique_id":"same","name":"A","state_topic":"p/a","options":["x"],"unit_of_measurement":"%"},
                   "b":{"platform":"select","unique_id":"same","name":"B","state_topic":"p/b","command_topic":"p/b/set","options":["x","y"],
                        "default_entity_id":"select.Has-Dash"},
                   "c":{"platform":"event","unique_id":"c","name":"C","state_topic":"p/c","event_types":["e"]},
                   "d":{"platform":"binary_sensor","unique_id":"d","name":"D","state_topic":"p/d","device_class":"sparkly","entity_category":"config"},
                   "e":{"platform":"sensor","unique_id":"e","name":"E","state_topic":"p/e","unit_of_measurement":"%","state_class":"measurement"},
                   "f":{"platform":"switch","unique_id":"f","name":"F","command_topic":"p/f/set","colour":"red"}}}
                """),
            ("p/a", "x"), ("p/b", "z"), ("p/b/set", "x"), ("p/c", """{"event_type":"e"}"""), ("p/d", "on"), ("p/e", "lots")), "homeassistant");

        string[] expected =
        [
            "bad.id/config: does not match discovery.py TOPIC_MATCHER",
            "root key '~' is not in DEVICE_DISCOVERY_SCHEMA",
            "a device needs a name",
            "options may not go with state_class or unit_of_measurement",
            "unique_id 'same' is used by 2 components",
            "via_device 'nobody' is no announced device's identifier",
            "default_entity_id 'select.Has-Dash' is not a valid select entity id",
            "state 'z' on p/b is not a valid select value",
            "command topic p/b/set holds a retained message",
            "event topic p/c holds a retained message",
            "binary_sensor device_class 'sparkly' is not a BinarySensorDeviceClass",
            "entity_category 'config' is not allowed for binary_sensor",
            "state 'on' on p/d is not a valid binary_sensor value",
            "state 'lots' on p/e is not a valid sensor value",
            "'colour' is not a switch option",
        ];
        foreach (var violation in expected)
        {
            Assert.True(report.Violations.Any(v => v.Contains(violation)), $"missing '{violation}' in:\n  " + string.Join("\n  ", report.Violations));
        }
    }
}
