global using System.Text;
global using Xunit;
global using Sensor.Core.Events;
global using Sensor.Core.Flows;
global using Sensor.Core.Health;
global using Sensor.Core.Mail;
global using Sensor.Core.Reassembly;
global using Sensor.Core.Tests.Support;
