// JsonField: typed reads of a reply, and errors that name the field's path and what was wrong.
#include "bulwark/http/json_field.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <string>

namespace bulwark {
namespace {

namespace json = boost::json;

const json::value reply = json::parse(R"({
  "result": [{"id": 7, "score": 0.5, "payload": {"title": "a"}},
             {"id": "uuid", "score": 1, "payload": null}],
  "status": "ok", "count": 3.0, "negative": -2, "fraction": 2.5, "flag": true,
  "vector": [0.25, 1, -3]
})");

// The detail of the protocol_error `read` throws.
template <class Read>
std::string failure(Read read) {
  try {
    read();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::protocol_error);
    EXPECT_EQ(error.client(), "svc");
    EXPECT_EQ(error.operation(), "op");
    return error.detail();
  }
  ADD_FAILURE() << "no exception";
  return {};
}

TEST(JsonField, ReadsTypedValues) {
  const JsonField root(reply, {"svc", "op"});
  EXPECT_EQ(root["result"][0]["id"].uint64(), 7u);
  EXPECT_EQ(root["result"][1]["id"].string(), "uuid");
  EXPECT_EQ(root["result"][0]["score"].number(), 0.5);
  EXPECT_EQ(root["result"][1]["score"].number(), 1.0) << "integers are numbers";
  EXPECT_EQ(root["count"].uint64(), 3u) << "a whole double is an integer";
  EXPECT_EQ(root["negative"].int64(), -2);
  EXPECT_TRUE(root["flag"].boolean());
  EXPECT_EQ(root["vector"].floats(), (std::vector<float>{0.25f, 1.0f, -3.0f}));
  EXPECT_EQ(root["result"][0]["payload"].object().at("title"), "a");
  EXPECT_EQ(root["result"].array().size(), 2u);
}

TEST(JsonField, PathsNameEachStep) {
  const JsonField root(reply);
  EXPECT_EQ(root.path(), "");
  EXPECT_EQ(root["result"][1]["payload"].path(), "result[1].payload");
  const auto items = root["result"].elements();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]["score"].path(), "result[1].score");
}

TEST(JsonField, FindTreatsNullAsAbsent) {
  const JsonField root(reply);
  EXPECT_TRUE(root["result"][0].find("payload").has_value());
  EXPECT_FALSE(root["result"][1].find("payload").has_value());
  EXPECT_FALSE(root.find("nothing").has_value());
  ASSERT_TRUE(root.find("status"));
  EXPECT_EQ(root.find("status")->path(), "status");
}

TEST(JsonField, MissingMembersAndElementsAreNamed) {
  const JsonField root(reply, {"svc", "op"});
  EXPECT_EQ(failure([&] { (void)root["result"][0]["vector"]; }),
            "reply field `result[0].vector` is missing");
  EXPECT_EQ(failure([&] { (void)root["result"][5]; }),
            "reply field `result[5]` is missing (the array has 2 elements)");
  EXPECT_EQ(failure([&] { (void)root["data"]; }), "reply field `data` is missing");
}

TEST(JsonField, WrongTypesSayWhatWasFound) {
  const JsonField root(reply, {"svc", "op"});
  EXPECT_EQ(failure([&] { (void)root["status"].number(); }),
            "reply field `status` is a string, expected a number");
  EXPECT_EQ(failure([&] { (void)root["status"]["x"]; }),
            "reply field `status` is a string, expected an object");
  EXPECT_EQ(failure([&] { (void)root["status"][0]; }),
            "reply field `status` is a string, expected an array");
  EXPECT_EQ(failure([&] { (void)root["result"][1]["payload"].object(); }),
            "reply field `result[1].payload` is null, expected an object");
  EXPECT_EQ(failure([&] { (void)root["flag"].string(); }),
            "reply field `flag` is a boolean, expected a string");
  EXPECT_EQ(failure([&] { (void)root["count"].boolean(); }),
            "reply field `count` is a number, expected a boolean");
  EXPECT_EQ(failure([&] { (void)root["negative"].uint64(); }),
            "reply field `negative` is -2, expected a non-negative integer");
  EXPECT_EQ(failure([&] { (void)root["fraction"].int64(); }),
            "reply field `fraction` is 2.5E0, expected an integer");
  EXPECT_EQ(failure([&] { (void)root["result"].floats(); }),
            "reply field `result[0]` is an object, expected a number");
  EXPECT_EQ(failure([&] {
              (void)JsonField(json::value(3), {"svc", "op"})["x"];
            }),
            "the reply is a number, expected an object");
}

TEST(JsonField, FailReportsACustomProblem) {
  const JsonField root(reply, {"svc", "op"});
  EXPECT_EQ(failure([&] { root["vector"].fail("must have 4 elements"); }),
            "reply field `vector` must have 4 elements");
}

}  // namespace
}  // namespace bulwark
