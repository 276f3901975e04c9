import factory

from chat.models import Channel, ChannelMembership, Message, MessageReaction
from companies.factories import CompanyFactory, UserFactory


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"channel-{n}")
    topic = factory.Faker("sentence", nb_words=4)
    is_private = False
    created_by = factory.SubFactory(UserFactory, company=factory.SelfAttribute("..company"))


class ChannelMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelMembership

    channel = factory.SubFactory(ChannelFactory)
    user = factory.SubFactory(UserFactory, company=factory.SelfAttribute("..channel.company"))


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    channel = factory.SubFactory(ChannelFactory)
    author = factory.SubFactory(UserFactory, company=factory.SelfAttribute("..channel.company"))
    body = factory.Faker("sentence")


class ReplyFactory(MessageFactory):
    parent = factory.SubFactory(MessageFactory)
    channel = factory.SelfAttribute("parent.channel")


class MessageReactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageReaction

    message = factory.SubFactory(MessageFactory)
    user = factory.SubFactory(UserFactory, company=factory.SelfAttribute("..message.channel.company"))
    emoji = factory.Iterator(["👍", "🎉", "❤️", "😂", "👀"])
