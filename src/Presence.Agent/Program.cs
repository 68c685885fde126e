Console.WriteLine("presence agent");
