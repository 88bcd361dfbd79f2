import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.List;

/**
 * An in-memory MongoDB-wire server on a loopback port for local runs and tests.
 * Usage: java -cp CLASSPATH EmbeddedMongo [port]   (0 or nothing: a free port)
 * Prints its URI (mongodb://127.0.0.1:PORT/) as the first stdout line, then serves until killed.
 *
 * The backend reports MongoDB 5.0 / wire version 13: its own default is older than the Node
 * driver of mongoose 9 accepts. What the app relies on is asserted by test/mongo-server.smoke.test.ts.
 */
public final class EmbeddedMongo {
  private static final MongoVersion REPORTED = new MongoVersion() {
    @Override
    public List<Integer> getVersionArray() {
      return List.of(5, 0, 0);
    }

    @Override
    public int getWireVersion() {
      return 13;
    }
  };

  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    MongoServer server = new MongoServer(new MemoryBackend().version(REPORTED));
    server.bind("127.0.0.1", port);
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    System.out.println("mongodb://127.0.0.1:" + server.getLocalAddress().getPort() + "/");
    System.out.flush();
    Thread.currentThread().join();
  }
}
